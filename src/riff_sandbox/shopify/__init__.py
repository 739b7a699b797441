"""Local stand-in for Shopify's Admin GraphQL API."""
