// Filled by the issue-8 work in progress.
