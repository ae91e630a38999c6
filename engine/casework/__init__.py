"""The casework domain around the routes: EHC plans (sections A–K and their versions), reviews and their dates,
transfers between authorities and links between a case's routes, documents and notices, messages to a case's routes,
a named parent, the email outbox.

May use: ``engine.runtime``, ``engine.lists`` and everything below them."""
