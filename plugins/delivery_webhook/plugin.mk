delivery_webhook_LIBS := $(shell pkg-config --libs libcurl libcrypto)
delivery_webhook_CFLAGS := $(shell pkg-config --cflags libcurl libcrypto)
