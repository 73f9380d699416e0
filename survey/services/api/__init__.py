"""The open interfaces: personal API tokens, the REST API's pages and the OData feed."""
