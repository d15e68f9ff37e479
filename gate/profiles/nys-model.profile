# facesearch profile: New York State MPTC Facial Recognition Model Policy (DCJS, December 2019)
# Every policy-derived value cites its section (Roman part + letter) on the comment line above it.

name = nys-model
title = New York State MPTC Facial Recognition Model Policy (2019)
source = policies/003_79ce0859ec3f5e3d.txt

# IV.B.1 identify an individual who: (a) has committed a criminal offense; (b) is involved
# in or planning definable criminal conduct; (c) is a possible missing person, crime victim
# or witness; (d) is deceased; (e) is incapacitated and unable to communicate; (f) is under
# arrest without valid ID, not forthcoming, or using someone else's/false ID.
# IV.B.2 prevent, detect and/or assess potential safety threats to the public/public officials
authorized_use = suspect
authorized_use = planned-criminal-conduct
authorized_use = missing-person
authorized_use = victim
authorized_use = witness
authorized_use = deceased
authorized_use = incapacitated
authorized_use = arrestee-without-valid-id
authorized_use = public-safety-threat

# V.A personal or other non-official purposes; V.B solely on (1) religious, political or
# social views or activities, (2) participation in a noncriminal organization or lawful
# event, (3) race, creed, color, national origin, sex, marital status, sexual orientation,
# gender identity expression, disability or other NY Civil Rights Law art. 4 characteristic.
# (V.B joins these to "images obtained by unlawful means" with "and"; they are enforced here
# as independent bans, as II and the First/Fourth/Fourteenth Amendments intend)
prohibited = personal-use
prohibited = protected-views
prohibited = noncriminal-organization
prohibited = lawful-events
prohibited = protected-class

# not stated in the policy; default (no video rule; IV.D accepts images from any lawful
# source, including private citizens)
forbid_recorded_video = no

# IV.E.2 "When practicable, a second examiner should review any potential identifications":
# 1 beyond the proposer; an agency with a single trained examiner may set 0 (not practicable)
review.examiners = 1
# not stated in the policy; default (no supervisor review required)
review.supervisors = 0
# not stated in the policy; default
review.written_signoff = no

# composed from IV.E.3 (leads only, not positive identification) and IV.E.4 (no probable
# cause, not the sole basis for a warrant); see also II
disclaimer = Potential identifications made using facial recognition software are investigative leads only and shall not be deemed positive identification; they do not establish probable cause to arrest and should not be used as the sole basis for any warrant application.

# not stated in the policy; default (VI.A keeps records for audit per the agency's own
# retention policy; 365 = FBI CJIS Security Policy 5.4.7 one-year minimum for audit records)
retention.audit_days = 365
# not stated in the policy; default (VI.D probes are kept in the investigative case file,
# never in the searchable database; no period given)
retention.probe_days = 365
# VI.A all records including images received are maintained for audit purposes
retention.purge_probe_on_no_candidate = no

# IV.F examiners may accept images from another law enforcement agency
outside_agency.allowed = yes
# not stated in the policy; default (IV.F requires no agreement)
outside_agency.require_mou = no
# IV.F.2 acknowledgement to the submitting agency that a result is only an investigative
# lead, not a positive identification; recorded as the requester's acknowledgement
outside_agency.require_disclaimer_ack = yes

# not stated in the policy; default
reports.weekly = no
# VI.C periodic and random audits and/or inspections shall be instituted; no frequency
# stated, monthly is the engine's audit cycle
reports.monthly_audit = yes
# not stated in the policy; default
reports.annual = no
# audit.sample_percent omitted: VI.C requires random audits but states no rate

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

# not stated in the policy; default (no image-quality minimums)
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
