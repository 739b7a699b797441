"""A local stand-in for www.vintageandrare.com: login, Cloudflare-style challenge, add/edit forms, CSV export,
AJAX endpoints, nightly maintenance. See docs/channels/vintage_and_rare.md."""
