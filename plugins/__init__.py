"""sublarr's built-in plugins.

Each module is an ordinary plugin, registered through the ``sublarr.plugins`` entry-point
group of sublarr's own distribution; ``sublarr.core`` never imports this package.
"""
