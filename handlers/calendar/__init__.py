"""The working-day calendar used by every "N working days" rule."""
