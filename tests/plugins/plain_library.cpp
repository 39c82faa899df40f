// A shared library that is not a Qt plugin at all: the manager must report it and go on.
extern "C" __attribute__((visibility("default"))) int mechscope_test_plain_function() { return 7; }
