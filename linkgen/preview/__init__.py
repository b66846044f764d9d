"""The local preview: serving build/, and rebuilding it on every change."""
