"""The lowest layer: where hpmon may connect (``guard.net``) and how far it inflates what it
reads (``guard.limits``). Imports nothing of ours, so crawlers, pipeline, alerts and hpmon all
use the same policy."""
