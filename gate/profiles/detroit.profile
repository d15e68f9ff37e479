# facesearch profile: Detroit Police Department, Manual Directive 307.5 (Facial Recognition)
# Every policy-derived value cites its section (307.5-x.y) on the comment line above it.

name = detroit
title = Detroit Police Department, Manual Directive 307.5
source = policies/000_d251556a6f7225b0.txt

# 307.5-1, 2.6, 2.7, 5.2, 5.3: only Part 1 Violent Crimes (robbery, sexual assault,
# aggravated assault, homicide) and Home Invasion I, with reasonable suspicion (2.9)
authorized_use = robbery
authorized_use = sexual-assault
authorized_use = aggravated-assault
authorized_use = homicide
authorized_use = home-invasion-1

# 307.5-3.1 surveillance of the public; 3.2 live stream and recorded video (any source);
# 3.3 mobile FR; 3.4 predictive analysis; 3.5(a) religious/political/social views,
# 3.5(b) noncriminal organization or lawful event, 3.5(c) race, ethnicity, citizenship,
# origin, age, disability, gender, gender identity, sexual orientation or other protected
# class; 3.6 immigration status
prohibited = surveillance-of-public
prohibited = live-stream
prohibited = recorded-video
prohibited = mobile-fr
prohibited = predictive-analysis
prohibited = protected-views
prohibited = noncriminal-organization
prohibited = lawful-events
prohibited = protected-class
prohibited = immigration-status

# 307.5-3.2 (no FR on recorded videos, whatever their origin) and 5.1 (still images only)
forbid_recorded_video = yes

# 307.5-2.4 "corroborated by at least two examiners and one supervisor" and 5.4.3 "the
# examiner must corroborate this lead with at least one other examiner and a CIU supervisor":
# read together, 2 examiners in total INCLUDING the proposer, i.e. 1 beyond the proposer
review.examiners = 1
# 307.5-2.4, 5.4.3: one CIU supervisor
review.supervisors = 1
# 307.5-5.4.3 "written sign-off by the supervisor and all examiners' involved"
review.written_signoff = yes

# 307.5-5.4.4 (same text in 5.5b), quoted verbatim; the doubled "investigation and
# investigation" is in the original directive
disclaimer = The result of a facial recognition search is provided by the Detroit Police Department only as an investigative lead and IS NOT TO BE CONSIDERED A POSITIVE IDENTIFICATION OF ANY SUBJECT. Any possible connection or involvement of any subject to the investigation must be determined through further investigation and investigation and investigative resources.

# 307.5-7.9 audit trail kept for a minimum of one (1) year
retention.audit_days = 365
# not stated in the policy; default (6.1.3b purges probe images "in accordance with this
# Department's retention policy, unless determined to be of evidentiary value" but that
# retention policy is not in this text; 365 matches the 7.9 audit minimum so audits can
# check each search against its probe)
retention.probe_days = 365
# 307.5-5.4.6 photograph removed from the system if CIU cannot discern a viable candidate
retention.purge_probe_on_no_candidate = yes

# 307.5-5.5 outside agencies may request searches under conditions (a)-(c)
outside_agency.allowed = yes
# 307.5-5.5a formalized agreement (MOU or interagency agreement) before the request
outside_agency.require_mou = yes
# 307.5-5.5b requester acknowledges the disclaimer statement (5.5c: non-compliant agency suspended)
outside_agency.require_disclaimer_ack = yes

# 307.5-6.2 weekly report to the Board of Police Commissioners
reports.weekly = yes
# 307.5-6.1.2d random evaluations of user compliance, 6.1.3c random audits; no frequency
# is stated, monthly is the engine's audit cycle
reports.monthly_audit = yes
# 307.5-6.3 annual report to the Board of Police Commissioners
reports.annual = yes
# audit.sample_percent omitted: 6.1.2d/6.1.3c require random audits but state no rate

# not stated in the policy; default
session.hours = 8
# not stated in the policy; default (7.7 defers to MD 307.4 CJIS standards, not in this text)
login.max_failures = 5
# not stated in the policy; default
login.lockout_minutes = 15
# not stated in the policy; default
login.failure_delay_ms = 1000
# not stated in the policy; default (7.6 no shared credentials; 7.7 MD 307.4 CJIS standards)
password.min_length = 12

# not stated in the policy; default (2.3: examiners assess image quality; no numeric minimums)
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
