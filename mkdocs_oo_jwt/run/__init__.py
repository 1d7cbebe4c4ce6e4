"""A run over files and folders, around the engine (which checks one page): the walk and the
reading of pages (``files``), the prefilter, the two-stage ``pipeline`` on every core with its
``forking`` rules, the findings ``cache`` and its ``stamps``, ``checking`` (``check_paths``, notices,
exit code), the ``fixer`` (``oo-jwt fix``) and the plugin's ``background`` checker. Imports the
engine; the engine never imports it. Nothing is imported here: front ends import the module
they need.
"""
