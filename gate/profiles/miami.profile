# facesearch profile: Miami Police Department, Facial Recognition Technology (Departmental Order ch. 4)
# Every policy-derived value cites its section (4.x.y) on the comment line above it.

name = miami
title = Miami Police Department, Facial Recognition Technology (ch. 4)
source = policies/001_bda67cbd6f6aec1e.txt

# 4.5.1 "shall only be used for the identification of": (a) potential suspects, witnesses,
# victims in a criminal investigation; (b) principal officers, witnesses or involved persons
# in an Internal Affairs investigation; (c) persons lacking capacity or otherwise unable to
# identify themselves; (d) unidentified deceased persons; (e) lawfully detained persons
# refusing to identify themselves or whose identity cannot be established.
# (4.1's "reducing an imminent threat" is purpose prose, not in the 4.5.1 list: not included)
authorized_use = suspect
authorized_use = witness
authorized_use = victim
authorized_use = internal-affairs
authorized_use = incapacitated
authorized_use = deceased
authorized_use = detained-unidentified

# 4.5.2(a) personal use / queries unrelated to duties / passing to unauthorized personnel;
# (b) harassing or intimidating; (c) surveillance based solely on religious, political or
# other constitutionally protected activities, or race, ethnicity, gender, sexual
# orientation, sexual identity or other protected class; (d) monitoring persons in
# real time; (e) any use violating law or agency policy
prohibited = personal-use
prohibited = harassment
prohibited = protected-views
prohibited = protected-class
prohibited = real-time-monitoring
prohibited = unlawful-use

# 4.3.1 a probe is "a still shot/image"; no ban on stills taken from recorded video
# (4.5.2d bans only real-time monitoring)
forbid_recorded_video = no

# not stated in the policy; default (no second-examiner review: 4.5.3.2 gives all results
# to the requester and 4.3.4.1 puts corroboration on the lead investigator)
review.examiners = 0
# not stated in the policy; default (4.5.5 supervisors audit monthly, they do not approve leads)
review.supervisors = 0
# not stated in the policy; default
review.written_signoff = no

# paraphrase, the policy gives no disclaimer text: 4.3.3 (potential investigative lead based
# on algorithmic similarity), 4.3.4 (not probable cause for arrest), 4.3.4.1 (follow-up)
disclaimer = This facial recognition search result is a potential investigative lead only, based on algorithmic similarity; it is not an identification, a positive search result alone does not constitute probable cause for arrest, and the lead must be corroborated by further investigation.

# not stated in the policy; default (4.5.3.3 search log and 4.5.5 monthly audit, no period;
# 365 = FBI CJIS Security Policy 5.4.7 one-year minimum for audit records)
retention.audit_days = 365
# not stated in the policy; default (4.5.3.2 results kept in the investigator's case file,
# no period given)
retention.probe_days = 365
# 4.5.3.4 the probe may be searched again if no identification is made, so it is kept
retention.purge_probe_on_no_candidate = no

# not stated in the policy; default (4.2/4.5 use limited to RTCC personnel and those the
# Chief authorizes; 4.5.2a bars passing information to unauthorized personnel)
outside_agency.allowed = no
# not stated in the policy; default (safeguard if an administrator enables outside requests)
outside_agency.require_mou = yes
# not stated in the policy; default (safeguard if an administrator enables outside requests)
outside_agency.require_disclaimer_ack = yes

# not stated in the policy; default
reports.weekly = no
# 4.5.5 RTCC supervisors conduct a monthly audit of members' compliance
reports.monthly_audit = yes
# not stated in the policy; default
reports.annual = no
# audit.sample_percent omitted: 4.5.5 states no sampling rate

# not stated in the policy; default
session.hours = 8
# not stated in the policy; default
login.max_failures = 5
# not stated in the policy; default
login.lockout_minutes = 15
# not stated in the policy; default
login.failure_delay_ms = 1000
# not stated in the policy; default
password.min_length = 12

# not stated in the policy; default (4.3.4.1 weighs probe quality; no numeric minimums)
quality.min_face_px = 40
# not stated in the policy; the engine's defaults, in its units: eye
# distance in pixels; head roll and yaw in degrees, estimated from the
# landmarks; sharpness as the variance of the Laplacian over the face box;
# brightness as its mean grey level and contrast as their standard deviation
quality.min_eye_px = 20
quality.max_roll_deg = 30
quality.max_yaw_deg = 45
quality.min_sharpness = 20
quality.min_brightness = 40
quality.max_brightness = 220
quality.min_contrast = 15
