# connector_http_poll links libcurl (the GETs) and json-c (the responses) privately: nothing of
# either crosses the ABI.
connector_http_poll_CFLAGS := $(shell pkg-config --cflags libcurl json-c)
connector_http_poll_LIBS := $(shell pkg-config --libs libcurl json-c)
