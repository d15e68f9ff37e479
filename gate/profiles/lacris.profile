# facesearch profile: Los Angeles County Regional Identification System (LACRIS)
# Facial Recognition Policy Template. Sections are cited by their headings ("XXX - ...")
# and the appended request form / Manual Search Report templates.

name = lacris
title = Los Angeles County LACRIS policy template
source = policies/004_e4f35f60151df7c4.txt

# Purpose and Scope: reasonable suspicion that use will provide information relevant to
# (1) an active investigation, (2) an imminent threat to health or safety ("at-risk"),
# (3) identification of deceased persons, (4) persons unable to identify themselves
authorized_use = active-investigation
authorized_use = imminent-threat
authorized_use = deceased
authorized_use = incapacitated

# Prohibitive Uses 1 surveillance of the public (except a person under active criminal
# investigation or an imminent threat to life), 2 live stream video (except imminent threat
# to life or at-risk individuals; the engine takes no streams at all, G8), 3 predictive
# analysis. First Amendment Activity 1 religious, political or social views; 2 noncriminal
# organization; 3 race, ethnicity, citizenship, origin, age, disability, gender, gender
# identification, sexual orientation or other protected classification
prohibited = surveillance-of-public
prohibited = live-stream
prohibited = predictive-analysis
prohibited = protected-views
prohibited = noncriminal-organization
prohibited = protected-class

# Facial Recognition Search Request form asks "Image extracted from video? Yes No":
# stills from recorded video are allowed and must be declared; Prohibitive Uses 2 bans
# only live stream video
forbid_recorded_video = no

# not stated in the policy; default (Investigative Searches 1-2 and Training: searches by
# one trained facial reviewer; no second review required)
review.examiners = 0
# not stated in the policy; default
review.supervisors = 0
# not stated in the policy; default (Documentation: the reviewer "should write a detailed
# report", covered by the proposal note and the possible-match report, G15)
review.written_signoff = no

# Manual Search Report template, quoted verbatim (the missing full stop after NEEDED is
# in the original); see also Database and Data Limitations 4
disclaimer = THIS IS NOT A POSITIVE IDENTIFICATION. IT IS AN INVESTIGATIVE LEAD ONLY, AND FURTHER INVESTIGATION IS NEEDED THIS IS NOT PROBABLE CAUSE TO ARREST OR A REASON FOR DETENTION.

# Audits: monthly audits of all user activities "shall be retained for a period of five
# (5) years" (5 x 365 + 1 leap day)
retention.audit_days = 1826
# not stated in the policy; default (the template sets no retention for probes or case
# files; the report footer requires destruction when LACRIS orders a record sealed)
retention.probe_days = 365
# not stated in the policy; default (the no-match template only asks for a new request
# form to submit additional images)
retention.purge_probe_on_no_candidate = no

# Purpose and Scope: outside agencies may request assistance if they adhere to this policy
# and fill out the request form affirming adherence
outside_agency.allowed = yes
# not stated in the policy; default (a signed request form, not a formal agreement)
outside_agency.require_mou = no
# Facial Recognition Search Request form: "Our agency understands that any results will be
# used as an investigative lead only..." with requestor signature
outside_agency.require_disclaimer_ack = yes

# not stated in the policy; default
reports.weekly = no
# Audits: the local administrator must conduct monthly audits of all user activities
reports.monthly_audit = yes
# not stated in the policy; default
reports.annual = no
# audit.sample_percent omitted: Audits covers all user activities, no sampling rate stated

# not stated in the policy; default
session.hours = 8
# not stated in the policy; default
login.max_failures = 5
# not stated in the policy; default
login.lockout_minutes = 15
# not stated in the policy; default
login.failure_delay_ms = 1000
# not stated in the policy; default (Training refers to CJIS minimum criteria, no figure)
password.min_length = 12

# not stated in the policy; default (Investigative Searches 2 and Training: facial reviewers
# judge suitability and may process images; no numeric minimums are given)
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
