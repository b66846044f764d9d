"""The public pages: rendering, themes, icons, images, cards, QR codes, sitemaps."""
