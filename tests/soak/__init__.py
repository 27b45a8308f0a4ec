"""The chaos soak (`make soak`): the exchange on two app nodes under process kills
and server restarts, then checks that nothing was lost. Never part of `make test`."""
