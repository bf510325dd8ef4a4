"""Reference rule pack: the Russian Federation (53-FZ, Presidential Decree 854 of 2022)."""
