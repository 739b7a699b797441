"""Shopify (Admin GraphQL API, custom-app access token). See docs/channels/shopify.md."""
