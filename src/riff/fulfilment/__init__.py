"""Fulfilment: from a paid order to a parcel on its way. Packing slips and pick lists (PDF), parcels and
customs, DHL rates and labels (PDF files in the data directory, downloaded through an authenticated URL),
the tracking number uploaded to the channel the order came from (a job retried until the channel
confirms), carrier tracking, returns and cancellations, and alerts (apprise). See docs/fulfilment.md."""
