"""The only code that touches the content database (``site_data/linkgen.db``).

One module per group of tables, all over one connection (``database``):
``content`` (profiles and links: the one edit path, history, undo) on
``profile_rows`` (what every write of a profile goes through), ``exchange``
(export, import, bulk loads), ``outbox``, ``build_state``, ``manifest`` (and
the purge queue), ``routes`` (the redirector's view), ``migrations`` (the steps ``schema``
applies, as it does for the clicks and audience databases) and
``changes`` (history summaries); ``public`` reads a profile as commands print
it without the models, and ``settings_file`` keeps the checked settings.
``Site`` hands each out.
"""
