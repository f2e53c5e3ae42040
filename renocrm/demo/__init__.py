"""The demo firm `make run` seeds into an empty database: one user per role and a few customers at every
stage, made through each app's services. It may import every app; nothing imports it but the command."""
