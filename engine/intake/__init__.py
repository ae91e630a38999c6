"""The way in: requests for an EHC needs assessment (online, or recorded by the LA), registering them on a child's
case, opening cases, starting a route on a case by hand, and bringing in a council's existing plans.

May use: ``engine.casework`` and everything below it.
"""
