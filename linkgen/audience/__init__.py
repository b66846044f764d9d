"""The audience: e-mail addresses given to a profile's sign-up form, double opt-in."""
