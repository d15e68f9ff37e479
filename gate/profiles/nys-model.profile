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

# G6: the same purposes stated in other words (prohibited_terms = purpose: phrase | ...).
# Each list starts from the policy's own wording and adds plain-English paraphrases a
# requester might type; a trailing * matches any ending of its last word.  Words that also
# describe victims, scenes or dates in ordinary violent-crime reports (church, march, race,
# party, date, Visa, a bare "crowd") appear only inside phrases that tie them to the people
# to be identified, or to a first-person request.

# V.A "personal or other non-official purposes"
prohibited_terms = personal-use: personal reason* | personal matter* | personal interest | personal curiosity | personal business | personal favor | personal favour | personal issue* | personal beef | personal grudge | personal vendetta | private matter* | private reason* | for personal | for myself | for my own | non official | nonofficial | unofficial* | not official | not for a case | not for work | not work related | not related to a case | not related to any case | unrelated to a case | unrelated to any case | no case | no law enforcement purpose | not a law enforcement purpose | non law enforcement | off the books | off the record | just curious | curious | curiosity | for fun | for a laugh | for laughs | for kicks | as a joke | as a prank | for a friend | a friend asked | my friend asked | friend of mine | friends of mine | favor for | favour for | as a favor | as a favour | do me a favor | do me a favour | my ex | my ex's | my ex wife | my ex husband | my ex girlfriend | my ex boyfriend | my ex partner | my wife | my husband | my girlfriend | my boyfriend | my fiance* | my spouse | my daughter* | my son | my sons | my kid* | my child* | my neighbor* | my neighbour* | my landlord* | my tenant* | my roommate* | my room mate* | my flatmate* | my coworker* | my co worker* | my colleague* | my boss | my family | my relative* | my cousin* | my brother* | my sister* | my mother* | my mom | my father* | my dad | my in law* | my aunt | my uncle | my date | my crush | my friend* | who my | seeing my | dating my | cheating on me | someone i met | somebody i met | a girl i met | a guy i met | a woman i met | a man i met | person i met | i met online | girl i saw | guy i saw | woman i saw | man i saw | cute girl | cute guy | hot girl | pretty girl | pretty woman | attractive | good looking | famous person | cut me off | honked at me | flipped me off | parked in my | parks in my | share it with | share the results with | sharing the results | send it to my | send the results to | pass it along to | pass it on to | passing information | unauthorized personnel | unauthorized person* | for a civilian | for a reporter | for a journalist | to a reporter | to a journalist | private investigator* | private detective* | private eye | bail bond* | bondsman | bounty hunter* | for my lawyer | for an insurance company | insurance investigator* | for my employer | moonlight* | tenant screening | employment screening | pre employment | job applicant* | hiring decision* | copy of the results | copy the results | copying the results | for my side job | ask her out | ask him out | asking her out | asking him out | go out with her | go out with him | hook up with

# V.B.1 "religious, political, or social views or activities"
prohibited_terms = protected-views: religious view* | religious belief* | religious affiliation* | religious activit* | religious practice* | religious group* | religious organi* | religious gathering* | religious service* | religious meeting* | religious leader* | religious community | his religion | her religion | their religion | what religion | which religion | faith community | faith group* | place of worship | places of worship | house of worship | houses of worship | worshipper* | worshiper* | who worship* | worship service* | who pray* | praying at | prays at | pray at | friday prayer* | sunday service* | sunday mass | bible study | prayer meeting* | prayer group* | church service* | church member* | church goer* | churchgoer* | members of the church | members of the mosque | members of the synagogue | members of the congregation | congregant* | attends the mosque | attended the mosque | attending the mosque | attend the mosque | goes to the mosque | go to the mosque | going to the mosque | at the mosque | into the mosque | mosque goer* | mosque attendee* | at the synagogue | into the synagogue | goes to church | go to church | muslims | muslim community | jews | jewish community | christians | catholics | hindus | sikhs | his faith | her faith | their faith | political view* | political belief* | political opinion* | political affiliation* | political activit* | political party | political parties | political group* | political organi* | political meeting* | political event* | political speech | political sign* | his politics | her politics | their politics | party affiliation | party membership | voted for | votes for | who he votes | who she votes | who they vote | campaign sign* | campaign event* | campaign rally | supporters of | trump supporter* | biden supporter* | democrats | republicans | democratic party | republican party | socialist* | communist* | anarchist* | antifa | maga | black lives matter | blm | social view* | social activit* | social cause* | activist* | activism | advocacy group* | protest organizer* | critical of the police | critical of the department | his opinions | her opinions | their opinions | free speech | freedom of speech | freedom of religion | constitutionally protected | first amendment | 1st amendment | people praying | men praying | women praying | those praying | praying outside | praying in front

# V.B.2 "participation in a noncriminal organization"
prohibited_terms = noncriminal-organization: union member* | union meeting* | union organiz* | union rep | union reps | union representative* | union activit* | union membership | members of the union | member of the union | labor union* | labour union* | trade union* | tenant union* | tenants union* | tenants association* | neighborhood association* | neighbourhood association* | block club* | community group* | community organization* | community organisation* | advocacy organization* | civil rights group* | civil rights organization* | charities | student group* | student organization* | naacp | aclu | membership list* | member list* | membership roster* | who belongs to | who belong to | veterans group* | lodge member* | freemason* | masonic | book club* | club member* | aa meeting* | alcoholics anonymous | support group* | charity members | charity volunteers

# V.B.2 "or lawful event": protests, rallies, meetings, gatherings
prohibited_terms = lawful-events: protest* | demonstration* | demonstrator* | rally | rallies | protest march* | peace march* | the march on | the march against | march against | marchers | picket line* | picketing | picketers | holding signs | holding a sign | carrying signs | carrying a sign | placard* | candlelight vigil* | peaceful assembl* | lawful assembl* | public assembl* | lawful event* | council meeting* | school board meeting* | public hearing* | community meeting* | polling place* | polling station* | at the polls | voters | parade goer* | paradegoer* | pride parade* | pride march* | pride event* | festival goer* | festivalgoer* | concert goer* | concertgoer* | sit in protest | boycott* | strikers | on strike | walkout* | everyone who attended | people who attended | took part in the protest | participated in the protest | identify the attendees | identify attendees | list of attendees | town hall meeting*

# V.B.3 "race, creed, color, national origin, sex, marital status, sexual orientation, gender
# identity expression, disability, or any other protected characteristic" (national origin,
# but V names no immigration-status ban, so no immigration phrasings are added)
prohibited_terms = protected-class: because of his race | because of her race | because of their race | because of race | based on race | based on his race | based on her race | based on their race | his race | her race | their race | racial profil* | racially profil* | race based | because he is black | because she is black | because they are black | because he's black | because she's black | because he is hispanic | because she is hispanic | because he is latino | because she is latina | because he is mexican | because he is arab | because he is asian | because she is asian | because he is muslim | because she is muslim | because he is jewish | because she is jewish | because he is gay | because she is gay | because they are gay | because he is trans | because she is trans | looks foreign | foreign looking | looks mexican | looks arab* | looks middle eastern | looks muslim | looks gay | doesn't belong in this neighborhood | does not belong in this neighborhood | doesn't belong here | does not belong here | out of place in this neighborhood | his ethnicity | her ethnicity | their ethnicity | based on ethnicity | because of ethnicity | ethnic background* | ethnic group* | ethnic profil* | ethnic origin* | color of his skin | colour of his skin | color of her skin | colour of her skin | color of their skin | colour of their skin | his skin colo* | her skin colo* | their skin colo* | because of his skin | because of her skin | national origin | place of origin | places of origin | country of origin | where he is from | where she is from | where they are from | where he's from | where she's from | his nationality | her nationality | their nationality | because of his gender | because of her gender | because of gender | based on gender | based on sex | because of her sex | gender identit* | gender expression | gender identification | sexual identity | sexual orientation | transgender* | trans woman | trans women | trans man | trans men | trans person | trans people | transsexual* | nonbinary | non binary | is gay | are gay | is lesbian | is a lesbian | lesbians | gay men | gay people | gay couple* | same sex couple* | bisexual* | homosexual* | queer | lgbt* | drag queen* | drag show* | his disability | her disability | their disability | because of a disability | based on disability | with disabilities | disabled people | disabled person* | because he is disabled | because she is disabled | because of his age | because of her age | because of their age | based on age | because of age | protected class* | protected characteristic* | protected classification* | protected status | gay bar* | gay club* | country she is from | country he is from | country they are from | country she's from | country he's from | which country | creed | his creed | marital status | is she married | is he married | are they married | is this woman married | is this man married | whether he is married | whether she is married | if she is married | if he is married

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
