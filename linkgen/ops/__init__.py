"""Running a site: backups and restores, supervising its services."""
