"""Clicks and views: the redirector, recording off the request path, the figures."""
