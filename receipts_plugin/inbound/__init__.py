"""Received mail to recorded reports and events: one path (:mod:`.pipeline`), in stages that
return data (:mod:`.correlate`, :mod:`.verdict`, :mod:`.consequences`). See the README's
"The path of a report" for where a report kind or a quarantine reason is added."""
