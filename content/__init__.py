"""The content library: TOML data, edited by staff; loaded and checked by bot.library."""
