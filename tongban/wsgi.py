import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
application = get_wsgi_application()

# Import the URLconf (every view, the API and its schemas) now, while the worker boots, not during its
# first request: that request used to wait about a second, also after a worker was restarted.
from django.urls import get_resolver  # noqa: E402

get_resolver().reverse_dict  # imports every urls module and view, and fills the reverse lookup
