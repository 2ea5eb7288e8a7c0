# connector_webhook links libcrypto privately for HMAC-SHA256 (nothing of it crosses the ABI).
connector_webhook_CFLAGS := $(shell pkg-config --cflags libcrypto)
connector_webhook_LIBS := $(shell pkg-config --libs libcrypto)
