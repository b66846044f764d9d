"""The creators' web editor: sign in, edit a profile with a live preview."""
