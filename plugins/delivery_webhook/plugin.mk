# delivery_webhook links libcurl for HTTP; HMAC signing is the host's (host->hmac_sha256).
delivery_webhook_LIBS := $(shell pkg-config --libs libcurl)
delivery_webhook_CFLAGS := $(shell pkg-config --cflags libcurl)
