# IPython kernel configuration for the grading sandbox (passed with --config by the agent).
c = get_config()  # noqa: F821

c.InteractiveShellApp.extensions = ["mooc_kernel_ext"]
# No history database: nothing to write, nothing for a learner to fill or read back.
c.HistoryManager.enabled = False
# Tracebacks go into feedback shown as plain text; ANSI colour codes would only get in the way.
c.InteractiveShell.colors = "NoColor"
c.InteractiveShell.xmode = "Context"
# No "autosave"/"autoreload"-style extras, no banner, no startup files other than ours.
c.InteractiveShellApp.exec_PYTHONSTARTUP = False
