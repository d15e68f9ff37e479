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

# G6: the same purposes stated in other words (prohibited_terms = purpose: phrase | ...).
# Each list starts from the policy's own wording and adds plain-English paraphrases a
# requester might type; a trailing * matches any ending of its last word.  Words that also
# describe victims, scenes or dates in ordinary violent-crime reports (church, march, race,
# party, date, Visa, a bare "crowd") appear only inside phrases that tie them to the people
# to be identified, or to a first-person request.

# 307.5-3.1 "surveil the public through any camera or video device"
prohibited_terms = surveillance-of-public: surveil the public | surveil members of the public | surveillance of the public | surveil everyone | surveil the crowd | surveil the area | surveil the neighborhood | surveil the neighbourhood | public surveillance | mass surveillance | general surveillance | blanket surveillance | dragnet | fishing expedition | monitor the public | monitor the crowd | monitoring the crowd | monitor crowds | monitor the area | monitor the neighborhood | monitor the neighbourhood | monitor the block | monitor everyone | monitoring everyone | monitor people | monitoring people | crowd monitoring | crowd surveillance | crowd scan* | scan the crowd | scanning the crowd | scan crowds | scan everyone | scan everybody | scan faces | scanning faces | scan all faces | scan every face | faces in the crowd | everyone in the crowd | identify the crowd | identify people in the crowd | watch the public | watching the public | watch the crowd | watching the crowd | watch everyone | watching everyone | keep an eye on people | keep an eye on everyone | keep an eye on the public | keep an eye on the crowd | keep an eye on the neighborhood | keep an eye on the block | keep an eye on who | keep tabs on people | keep tabs on everyone | keep tabs on who | identify everyone | identify everybody | identify all the people | identify all people | identify all persons | identify all faces | identify every face | identify every person | identify members of the public | identify passers by | identify passersby | identify pedestrians | identify random | run everyone | run everybody | run every face | run all faces | run all the faces | run random | scan random | random faces | random members of the public | everyone who walks | everyone who walked | everyone walking | everyone who enters | everyone who entered | everyone entering | everyone who comes | everyone coming in | everyone who goes | everyone going in | everyone who passes | everyone passing | who comes and goes | comings and goings | who goes in and out | anyone suspicious | anyone who looks suspicious | suspicious looking people | monitor the park | monitor the entrance | monitor the street | monitor the corner | monitor the intersection | monitor the plaza | monitor the station | monitor the mall | monitor the square

# 307.5-3.2 "live stream": feeds, real time, alerts as people pass
prohibited_terms = live-stream: live stream* | livestream* | live feed* | live video* | live camera* | live cam | live cams | live footage | live cctv | live view | live monitoring | monitor live | watching live | broadcast live | live broadcast* | facebook live | instagram live | streaming video* | video stream* | camera stream* | streamed live | rtsp | webcam* | cctv feed* | camera feed* | video feed* | security feed* | on the feed | in real time | real time video* | real time feed* | real time surveillance | real time camera* | real time alert* | real time identification | real time face | real time facial | real time tracking | real time scanning | real time monitoring | realtime | as it happens | as they happen | as it is happening | while it is happening | as they walk | as he walks | as she walks | as people walk | as they pass | as they enter | instant alert* | alert us when | alert me when | notify us when | ping us when | flag him when | flag her when | flag anyone | project green light | when he appears on camera | when she appears on camera | when he shows up on camera | when she shows up on camera | if he shows up on camera | whenever he appears

# 307.5-3.2 "recorded videos ... from DPD itself, from private citizens, or from any other
# source": footage, stills and frames taken from it, the cameras that record it
prohibited_terms = recorded-video: video* | recorded footage | footage | film footage | filmed | filming | clip from | cctv* | closed circuit | security camera* | security cam | security cams | surveillance camera* | surveillance cam | surveillance cams | store camera* | store's camera* | shop camera* | doorbell cam* | ring camera* | ring doorbell | nest cam* | body cam* | bodycam* | body worn | dashcam* | dash cam* | dashboard cam* | in car camera* | green light camera* | camera recording* | caught on camera | captured on camera | recorded on camera | still from | stills from | still frame* | frame grab* | freeze frame* | youtube | mp4 | mov | city camera* | track his movements | track her movements | track their movements

# 307.5-3.3 "mobile facial recognition": phone apps, in the field, on the spot
prohibited_terms = mobile-fr: mobile facial recognition | mobile face recognition | mobile app* | phone app* | cell phone app* | cellphone app* | smartphone app* | facial recognition app* | face recognition app* | fr app* | face app* | app on my phone | point my phone | point the phone | point a phone | field identification | field id | roadside identification | roadside id | on the spot identification | on the spot id | identify him on the spot | identify her on the spot | identify them on the spot | scan his face | scan her face | scan their face* | scanning his face | scanning her face | face scan* | take his picture and run | take her picture and run | snap a photo and run | snap a picture and run | take a photo and run | from my patrol car | from my squad car | patrol car computer | squad car computer | mobile data terminal* | handheld device* | hand held device* | handheld scanner* | patrol tablet* | my tablet | on the street with my phone | on the street with a phone | on the street with the app | run it on my phone | run him on my phone | run her on my phone | run them on my phone | run it from my phone | run him from my phone | search from my phone | search on my phone | on my phone app | using a mobile device | on a mobile device | from a mobile device | in the field with | use in the field | used in the field | run in the field | run it in the field | run them in the field | run him in the field | identify people in the field | identification in the field | scan in the field

# 307.5-3.4 "predictive analysis": forecasting or scoring who will offend
prohibited_terms = predictive-analysis: forecast* | likely to offend | likely to reoffend | likely to re offend | likely to commit | before it happens | future crime* | future offen* | future criminal* | future violence | future violent | future behavior | future behaviour | future risk | potential future | risk score* | risk scoring | threat score* | risk assessment* | risk profil* | risk rating* | risk level* | high risk individual* | at risk of offending | at risk of reoffending | at risk of committing | potential offender* | potential criminal* | likely offender* | likely criminal* | pre crime | precrime | pattern of life | patterns of life | heat map* | who will offend | who is likely to | who are likely to | looks like a criminal | one day commit | someday commit | eventually commit | flag potential | predict | predicts | predicting | prediction*

# 307.5-3.5(a) "religious, political, or social views or activities"
prohibited_terms = protected-views: religious view* | religious belief* | religious affiliation* | religious activit* | religious practice* | religious group* | religious organi* | religious gathering* | religious service* | religious meeting* | religious leader* | religious community | his religion | her religion | their religion | what religion | which religion | faith community | faith group* | place of worship | places of worship | house of worship | houses of worship | worshipper* | worshiper* | who worship* | worship service* | who pray* | praying at | prays at | pray at | friday prayer* | sunday service* | sunday mass | bible study | prayer meeting* | prayer group* | church service* | church member* | church goer* | churchgoer* | members of the church | members of the mosque | members of the synagogue | members of the congregation | congregant* | attends the mosque | attended the mosque | attending the mosque | attend the mosque | goes to the mosque | go to the mosque | going to the mosque | at the mosque | into the mosque | mosque goer* | mosque attendee* | at the synagogue | into the synagogue | goes to church | go to church | muslims | muslim community | jews | jewish community | christians | catholics | hindus | sikhs | his faith | her faith | their faith | political view* | political belief* | political opinion* | political affiliation* | political activit* | political party | political parties | political group* | political organi* | political meeting* | political event* | political speech | political sign* | his politics | her politics | their politics | party affiliation | party membership | voted for | votes for | who he votes | who she votes | who they vote | campaign sign* | campaign event* | campaign rally | supporters of | trump supporter* | biden supporter* | democrats | republicans | democratic party | republican party | socialist* | communist* | anarchist* | antifa | maga | black lives matter | blm | social view* | social activit* | social cause* | activist* | activism | advocacy group* | protest organizer* | critical of the police | critical of the department | his opinions | her opinions | their opinions | free speech | freedom of speech | freedom of religion | constitutionally protected | first amendment | 1st amendment | people praying | men praying | women praying | those praying | praying outside | praying in front

# 307.5-3.5(b) "participation in a particular noncriminal organization"
prohibited_terms = noncriminal-organization: union member* | union meeting* | union organiz* | union rep | union reps | union representative* | union activit* | union membership | members of the union | member of the union | labor union* | labour union* | trade union* | tenant union* | tenants union* | tenants association* | neighborhood association* | neighbourhood association* | block club* | community group* | community organization* | community organisation* | advocacy organization* | civil rights group* | civil rights organization* | charities | student group* | student organization* | naacp | aclu | membership list* | member list* | membership roster* | who belongs to | who belong to | veterans group* | lodge member* | freemason* | masonic | book club* | club member* | aa meeting* | alcoholics anonymous | support group* | charity members | charity volunteers

# 307.5-3.5(b) "or lawful event": protests, rallies, meetings, gatherings
prohibited_terms = lawful-events: protest* | demonstration* | demonstrator* | rally | rallies | protest march* | peace march* | the march on | the march against | march against | marchers | picket line* | picketing | picketers | holding signs | holding a sign | carrying signs | carrying a sign | placard* | candlelight vigil* | peaceful assembl* | lawful assembl* | public assembl* | lawful event* | council meeting* | school board meeting* | public hearing* | community meeting* | polling place* | polling station* | at the polls | voters | parade goer* | paradegoer* | pride parade* | pride march* | pride event* | festival goer* | festivalgoer* | concert goer* | concertgoer* | sit in protest | boycott* | strikers | on strike | walkout* | everyone who attended | people who attended | took part in the protest | participated in the protest | identify the attendees | identify attendees | list of attendees | town hall meeting*

# 307.5-3.5(c) "races, ethnicities, citizenship, places of origin, ages, disabilities,
# genders, gender identities, sexual orientations, or other classification protected by law"
prohibited_terms = protected-class: because of his race | because of her race | because of their race | because of race | based on race | based on his race | based on her race | based on their race | his race | her race | their race | racial profil* | racially profil* | race based | because he is black | because she is black | because they are black | because he's black | because she's black | because he is hispanic | because she is hispanic | because he is latino | because she is latina | because he is mexican | because he is arab | because he is asian | because she is asian | because he is muslim | because she is muslim | because he is jewish | because she is jewish | because he is gay | because she is gay | because they are gay | because he is trans | because she is trans | looks foreign | foreign looking | looks mexican | looks arab* | looks middle eastern | looks muslim | looks gay | doesn't belong in this neighborhood | does not belong in this neighborhood | doesn't belong here | does not belong here | out of place in this neighborhood | his ethnicity | her ethnicity | their ethnicity | based on ethnicity | because of ethnicity | ethnic background* | ethnic group* | ethnic profil* | ethnic origin* | color of his skin | colour of his skin | color of her skin | colour of her skin | color of their skin | colour of their skin | his skin colo* | her skin colo* | their skin colo* | because of his skin | because of her skin | national origin | place of origin | places of origin | country of origin | where he is from | where she is from | where they are from | where he's from | where she's from | his nationality | her nationality | their nationality | because of his gender | because of her gender | because of gender | based on gender | based on sex | because of her sex | gender identit* | gender expression | gender identification | sexual identity | sexual orientation | transgender* | trans woman | trans women | trans man | trans men | trans person | trans people | transsexual* | nonbinary | non binary | is gay | are gay | is lesbian | is a lesbian | lesbians | gay men | gay people | gay couple* | same sex couple* | bisexual* | homosexual* | queer | lgbt* | drag queen* | drag show* | his disability | her disability | their disability | because of a disability | based on disability | with disabilities | disabled people | disabled person* | because he is disabled | because she is disabled | because of his age | because of her age | because of their age | based on age | because of age | protected class* | protected characteristic* | protected classification* | protected status | gay bar* | gay club* | country she is from | country he is from | country they are from | country she's from | country he's from | which country

# 307.5-3.6 "assess immigration status" (citizenship of 3.5(c) counted here too)
prohibited_terms = immigration-status: immigration* | illegal immigrant* | illegal alien* | illegals | undocumented | deport* | ice detainer* | ice hold* | ice agent* | ice officer* | ice request* | ice warrant* | ice raid* | notify ice | call ice | tell ice | over to ice | i c e | customs enforcement | border patrol | visa overstay* | overstay* | expired visa* | visa status | visa expired | his visa | her visa | their visa | work visa* | student visa* | tourist visa* | visa holder* | on a visa | without a visa | green card status | green card holder* | has a green card | his green card | her green card | lawful permanent resident* | permanent resident* | residency status | resident status | legal status | legal residen* | country legally | country illegally | country lawfully | country unlawfully | us legally | us illegally | states legally | states illegally | here legally | here illegally | legally present | illegally present | entered illegally | crossed the border | border crossing* | border crosser* | citizenship* | proof of citizenship | is a citizen | is he a citizen | is she a citizen | are they citizens | not a citizen | non citizen* | noncitizen* | us citizen* | u s citizen* | american citizen* | foreign national* | illegal entry | unlawful presence | unlawfully present | out of status | asylum* | refugee status | daca | tps | dreamer* | removal proceeding* | removal order* | alien registration | e verify | everify

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
