"""The outbound DingTalk client. Only the worker calls it; request handlers never do."""
