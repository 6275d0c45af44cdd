"""The monthly report's parts: what it reads from the marts, its charts, its HTML template."""
