"""Administration: what an administrator reads about instances and people, repairing a stuck or failed instance,
moving instances between versions of their route.

May use: ``engine.casework`` and everything below it."""
