delivery_email_LIBS := $(shell pkg-config --libs libcurl)
delivery_email_CFLAGS := $(shell pkg-config --cflags libcurl)
