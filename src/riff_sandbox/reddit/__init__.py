"""Reddit Data API sandbox (research collectors): marketplace subreddits, BST threads, OAuth."""
