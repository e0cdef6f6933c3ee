"""`python -m services.mailsink --port 8025 --maildir var/mail`."""

from services.mailsink.server import main

main()
