"""The web UI: a Flask app over the engine (see webui.app.create_app)."""
