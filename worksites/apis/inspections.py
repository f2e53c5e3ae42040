# (router prefix, viewset, basename) of this part's API routes; api_urls.py registers them.
ROUTES = []
