"""Running the routes: the workflow engine (one transaction per command), the projections written with each
command (tasks, timers, deadlines, audit), the state serializer, incidents, the timer worker and building the engine
from settings.

May use: ``engine.library`` and everything below it. Casework hooks (documents, plan versions, starting other
routes) and daily jobs are named by string and loaded when first needed, so the runtime never imports casework."""
