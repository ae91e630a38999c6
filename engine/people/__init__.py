"""People and access: roles and BPMN lanes, who may see a case or act on a task, users, organisations, passwords.

May use: ``engine.store``, ``engine.statutory``, ``engine.errors``."""
