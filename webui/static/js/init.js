// Starts the GOV.UK Frontend components (error summary focus, password reveal, service navigation menu ...).
import { initAll } from '../vendor/govuk/govuk-frontend.min.js';

initAll();
