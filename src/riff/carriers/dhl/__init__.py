"""DHL Express through the MyDHL API (REST/JSON, HTTP Basic). Facts and sources: docs/fulfilment.md."""
