"""Every "may this user ..." decision of the platform. See access/api.py, the app's only public module."""
