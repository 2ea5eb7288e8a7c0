delivery_slack_LIBS := $(shell pkg-config --libs libcurl)
delivery_slack_CFLAGS := $(shell pkg-config --cflags libcurl)
