"""CLI command groups. Each module defines ``register(app)`` adding its commands to
the typer app; they parse flags, call the packages and choose exit codes, nothing
more. Keep module-level imports light: no cloud SDK, no OR-Tools."""
