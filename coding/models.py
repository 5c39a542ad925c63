# The codebook, codings, quotes and memos arrive with the coding workbench issue.
