"""gunicorn settings for the help desk (``gunicorn --config deploy/gunicorn.conf.py wsgi:app``)."""
import multiprocessing
import os

bind = os.environ.get("HELPDESK_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "gthread"
threads = int(os.environ.get("HELPDESK_THREADS", 4))  # a slow request holds one thread, not the process (replies are sent by the worker, never here)
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
