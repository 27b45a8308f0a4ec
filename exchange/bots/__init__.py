"""Example trading bots for the REST API, using only the Python client
(clients/python, `yiwang_client`): run one with
`python -m exchange.bots.<name> --url URL --token KEY [options]` (or --username and
--password instead of --token). They retry until the server answers."""
