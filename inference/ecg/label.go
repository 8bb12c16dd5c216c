package ecg

// Label is a beat class: the AAMI EC57 groups the ECG core reports.
type Label string

// Beat labels.
const (
	LabelNormal           Label = "N" // normal or bundle-branch-block beat
	LabelVentricular      Label = "V" // ventricular ectopic beat
	LabelSupraventricular Label = "S" // supraventricular ectopic beat
	LabelUnclassifiable   Label = "Q" // unclassifiable (noise, no template yet)
)
